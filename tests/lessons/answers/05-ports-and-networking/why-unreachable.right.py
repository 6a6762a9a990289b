# The letter in capitals, with spaces.
fix = " B "
