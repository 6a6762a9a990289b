# docker volume inspect instead of the SDK.
notes_mountpoint = out("docker volume inspect --format '{{.Mountpoint}}' l4-notes").strip()
