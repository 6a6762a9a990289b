# The revision from a build argument into a LABEL instruction, built with the docker CLI;
# the tags with the SDK.
(trainer / "Dockerfile").write_text(
    multistage_dockerfile() + "ARG REVISION\nLABEL org.opencontainers.image.revision=$REVISION\n"
)
sh(f"docker build --build-arg REVISION={SHA} {LABEL_ARGS} -t serve-{RUN} {trainer}")
image = client.images.get(f"serve-{RUN}")
image.tag(f"serve-{RUN}", "1.3.0")
image.tag(f"serve-{RUN}", f"git-{SHA[:7]}")
