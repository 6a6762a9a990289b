# --mount instead of -v, and the file behind hostname.
(WORK / "out").mkdir(exist_ok=True)
sh(f"docker run --name writer-{RUN} {LABEL_ARGS} --mount type=bind,source={WORK / 'out'},target=/out "
   "python:3.11-slim sh -c 'cat /etc/hostname > /out/hostname.txt'")
written_hostname = (WORK / "out" / "hostname.txt").read_text().strip()
