"""The Rasa component that re-ranks DIET's bundle intents by the nearest training examples (assistant/neighbours.py):
between DIETClassifier and FallbackClassifier in bot/config.yml. It keeps the training examples' texts and intents with
the model and indexes them when the model is loaded."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.neighbours import NEIGHBOURS, WEIGHT, Neighbours, blend

EXAMPLES_FILE = "examples.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NeighbourRanking(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"weight": WEIGHT, "neighbours": NEIGHBOURS}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 examples: List[List[Text]] | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.neighbours = Neighbours([tuple(example) for example in examples or []], self.config["neighbours"])

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NeighbourRanking":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "NeighbourRanking":
        try:
            with model_storage.read_from(resource) as directory:
                examples = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
        except ValueError:  # nothing was kept: a model trained without intent examples
            examples = []
        return cls(config, model_storage, resource, examples)

    def train(self, training_data: TrainingData) -> Resource:
        """Keep every intent example's text and intent with the model."""
        examples = [[message.get(TEXT), message.get(INTENT)] for message in training_data.intent_examples
                    if message.get(TEXT) and message.get(INTENT)]
        with self._model_storage.write_to(self._resource) as directory:
            (directory / EXAMPLES_FILE).write_text(json.dumps(examples, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY)
            if ranking:
                blended = blend(ranking, self.neighbours.votes(message.get(TEXT) or ""), self.config["weight"])
                message.set(INTENT_RANKING_KEY, blended, add_to_output=True)
                message.set(INTENT, blended[0], add_to_output=True)
        return messages
