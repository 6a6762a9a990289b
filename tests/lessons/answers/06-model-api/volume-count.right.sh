# docker stop then rm, --mount instead of -v, long flags.
docker stop l6-final && docker rm l6-final
docker run --detach --name=l6-again --env-file="$PWD/model-api/.env" \
    --mount type=volume,source=l6-predictions,target=/data \
    --publish "$HOST_IP::8000" l6-model-api:second
