"""One module per CLI verb: turn parsed arguments into a call and print the result."""
