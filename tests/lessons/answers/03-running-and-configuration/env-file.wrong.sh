# Rejected with: did not get
# The value read on the host and passed with -e: the file's other settings are lost.
version=$(grep MODEL_VERSION= model.env | cut -d= -f2)
docker run --name l3-settings -e MODEL_VERSION="$version" python:3.11-slim \
    python -c 'import os; print(os.environ["MODEL_VERSION"])'
