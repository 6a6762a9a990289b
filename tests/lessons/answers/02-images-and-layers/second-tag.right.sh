# The long form, with the source's tag spelled out.
docker image tag l2-ordered:latest l2-ordered:v1
