# The volume made by docker run itself, --mount instead of -v, and the shell's printf.
docker run --rm --mount type=volume,source=l4-notes,target=/data python:3.11-slim \
    sh -c "printf 'remember me' > /data/note.txt"
