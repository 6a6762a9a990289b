# docker create, then docker start, with the flags in another order.
docker create --name l1-sleeper python:3.11-slim sleep infinity
docker start l1-sleeper
