# The file's absolute path, and the shell's echo.
docker run --name l3-settings --env-file "$PWD/model.env" python:3.11-slim sh -c 'echo $MODEL_VERSION'
