# Rejected with: the largest layer has
# The file the lesson's Dockerfile writes is 30 MB; the base image has bigger layers.
largest_layer_mb = 30.0
