# Rejected with: the restart policy is 'always'
# Restarts it, but without end: a crash loop never stops.
out(f"docker rm -f service-{RUN} 2>/dev/null || true")
sh(f"docker run -d --name service-{RUN} {LABEL_ARGS} --restart always fixed-{RUN}")
