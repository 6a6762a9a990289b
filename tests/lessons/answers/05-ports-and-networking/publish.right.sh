# Long flags, the protocol spelled out.
docker run --detach --name=l5-api --publish "$HOST_IP::8000/tcp" l5-site
