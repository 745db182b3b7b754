"""Hosts: the virtual Docker nodes, the inventory, the offline images."""
