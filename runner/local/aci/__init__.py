"""Microsoft.ContainerInstance container groups, served as ARM serves them."""
