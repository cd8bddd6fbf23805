"""Use the winner: export a cell's model, predict images, serve it over HTTP, explain it.

``export`` retrains (a stored fold job, or a refit on all labelled data) and writes a
*bundle*: ``model.keras`` plus ``metadata.json``. The other modules only read bundles, so
predicting, serving and Grad-CAM never need the suite or the results store.
"""
