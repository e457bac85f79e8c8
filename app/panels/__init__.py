"""One module per tab of the app: build, train, draw, model. Each exposes render()."""
