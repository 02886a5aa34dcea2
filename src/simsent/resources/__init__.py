"""Data files shipped inside the simsent package (see ``resources/demo/README.md``)."""
