"""政策体检 for the public: the questionnaire that builds an engine case, running it, and the program
catalogue generated from the engine's program definitions, clauses and parameters."""
