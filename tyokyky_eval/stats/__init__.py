"""Statistics: pure functions, tidy DataFrames and options in, DataFrames out; no files, parameters,
language or disclosure rules. One module per analysis (fidelity, prepost, survival, employment,
feedback, pathways, activities, goals, costs, overview), with their methods (:mod:`.schoenfeld`:
the proportional-hazards test, :mod:`.lmm`: mixed models, :mod:`.rank_tests`) and the pooling
across projects (:mod:`.meta_analysis`)."""
