"""Fine-tuning for behaviour (ranking), never for facts. Needs the ``[train]`` extra."""
