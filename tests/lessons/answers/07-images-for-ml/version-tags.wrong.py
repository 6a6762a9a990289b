# Rejected with: not the full commit hash
# The short hash in the label, as in the tag.
BUILDER.build(trainer, f"serve-{RUN}", {**LABELS, "org.opencontainers.image.revision": SHA[:7]})
sh(f"docker tag serve-{RUN} serve-{RUN}:1.3.0")
sh(f"docker tag serve-{RUN} serve-{RUN}:git-{SHA[:7]}")
