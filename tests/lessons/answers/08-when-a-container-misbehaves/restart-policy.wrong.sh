# Rejected with: the restart policy is 'always'
# Restarts it, but without end: a crash loop never stops.
docker run -d --name l8-service --restart always l8-fixed
