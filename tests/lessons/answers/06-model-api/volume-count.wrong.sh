# Rejected with: mount the same volume
# A new container without the volume: its log starts empty.
docker rm -f l6-final
docker run -d --name l6-again --env-file model-api/.env -p "$HOST_IP"::8000 l6-model-api:second
