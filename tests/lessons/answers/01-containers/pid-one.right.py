# The PID inside from /proc in Python, the one outside from docker top.
sleeper = client.containers.get("l1-sleeper")
find = ("import os; print(*[p for p in os.listdir('/proc') if p.isdigit() "
        "and open(f'/proc/{p}/comm').read().strip() == 'sleep'])")
sleep_pid = int(sleeper.exec_run(["python", "-c", find]).output.split()[0])
# docker top lists the container's processes as the engine's machine sees them.
top = out("docker top l1-sleeper").splitlines()
sleep_host_pid = int(top[1].split()[top[0].split().index("PID")])
