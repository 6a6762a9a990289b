# The revision from a build argument into a LABEL instruction, all three tags at build time.
cd train-serve
sha=$(git rev-parse HEAD)
short=$(git rev-parse --short=7 HEAD)
printf 'ARG REVISION\nLABEL org.opencontainers.image.revision=$REVISION\n' >> Dockerfile
docker build --build-arg REVISION="$sha" -t l7-serve -t l7-serve:1.3.0 -t "l7-serve:git-$short" .
