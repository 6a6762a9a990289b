# docker save read by hand: every file of the archive that is a tar is a layer (a
# legacy layer.tar, an OCI blob, gzip-compressed or not).
import io
import tarfile

saved = io.BytesIO(b"".join(client.images.get(f"leaky-{RUN}").save()))
leaked_token = None
with tarfile.open(fileobj=saved) as archive:
    for member in archive.getmembers():
        if not member.isfile():
            continue
        try:
            layer = tarfile.open(fileobj=archive.extractfile(member))
        except tarfile.ReadError:
            continue  # manifest.json, the image's config: not a layer
        with layer:
            for entry in layer.getmembers():
                if entry.isfile() and entry.name.removeprefix("./") == "tmp/token.txt":
                    text = layer.extractfile(entry).read().decode()
                    leaked_token = text.strip().split("=", 1)[1]
