"""Reading and writing: images in (``images``), shaping them for the network
(``preprocess``), every file out atomically (``files``), and where the project is
(``paths``)."""
