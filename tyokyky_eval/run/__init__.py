"""Running: one project's appendix (:mod:`.runner`: validate, protect, one papermill kernel, render,
publish atomically), many projects locally or on a Dask cluster (:mod:`.cluster`), the Jupyter
kernel (:mod:`.kernel`), the provenance record (:mod:`.provenance`) and a researcher's working copy
(:mod:`.lab`)."""
