# Rejected with: is not the PID the engine's machine gives
# 1 is in the text above the exercise; the host PID is this kernel's own.
sleep_pid = 1
sleep_host_pid = os.getpid()
