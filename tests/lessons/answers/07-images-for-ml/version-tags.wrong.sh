# Rejected with: not the full commit hash
# The short hash in the label, as in the tag.
short=$(git -C train-serve rev-parse --short=7 HEAD)
docker build --label org.opencontainers.image.revision="$short" -t l7-serve train-serve
docker tag l7-serve l7-serve:1.3.0
docker tag l7-serve "l7-serve:git-$short"
