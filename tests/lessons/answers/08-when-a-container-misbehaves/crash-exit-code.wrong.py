# Rejected with: there is no container named crash-
# The exit code seen above, typed in: no container was run.
crash_exit_code = 1
