# docker create and start, long flags.
docker create --name=l8-service --restart=on-failure:3 l8-fixed
docker start l8-service
