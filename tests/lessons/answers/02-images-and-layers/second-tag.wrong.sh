# Rejected with: has the tags
# The tag put on another image: lesson 2's own python:3.11-slim.
docker tag python:3.11-slim l2-ordered:v1
