"""The pages' models: traitlets state that never imports ipywidgets.

Each page's model is in its own module here; the views in
:mod:`fangkong_lib.ui` wrap them. Tests drive these without a browser.
"""
