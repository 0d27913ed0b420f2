"""Built-in domain plugins, one package each; found through the ``minzheng.plugins``
entry-point group like any third-party plugin."""
