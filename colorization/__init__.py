"""Automatic colorization of grayscale photographs with the paper's CNN in CIE Lab."""
