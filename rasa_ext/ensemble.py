"""An intent classifier made of several DIETs, each with its own random_seed, whose ranking is the mean of theirs.

One DIET's confidences move with its seed alone (seed 4242 -> 4243 moved the bundle questions turned away 50 -> 66 and
the uncovered questions given a checklist 20 -> 28: README, "Measuring understanding"); the mean of two trained for half
the epochs each moves less.

Training: DIET keeps about one core busy (TensorFlow's ops on batches this small hardly spread), so the members train at
the same time, the first in this process and each other in a process of its own (spawned, so it starts with its own
TensorFlow and its own random state: the same seed gives the same member as training it alone). Each member persists
itself into a folder of this component's resource, which is what the model package and Rasa's cache hold. Batches are
of messages of similar length (assistant/batching.py): DIET pads a batch to its longest message.
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils import train_utils
from rasa.utils.tensorflow.constants import RANDOM_SEED, SEQUENCE_LENGTH
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

from assistant.batching import bucketed_order
from assistant.ensemble import mean_ranking

# component options (the others are DIET's, shared by every member)
SEEDS = "random_seeds"  # one member per seed
PARALLEL = "train_in_parallel"  # members train in processes of their own at the same time; false: one after another here
BUCKET_BY_LENGTH = "bucket_by_length"  # batches of messages of similar length
OWN_OPTIONS = (SEEDS, PARALLEL, BUCKET_BY_LENGTH)
# the parse output keeps this many of the mean's best, as one DIET's ranking_length would
RANKED = 10


class LengthBucketedBatchDataGenerator(RasaBatchDataGenerator):
    """Rasa's training batches (shuffled, class-balanced, growing batch size), each of messages of similar length."""

    def _shuffle_and_balance(self, batch_size: int) -> Dict[Text, Any]:
        data = super()._shuffle_and_balance(batch_size)
        lengths = data.get(TEXT, {}).get(SEQUENCE_LENGTH)
        if not self.shuffle or not lengths:
            return data
        # numpy's global generator, as Rasa's shuffle uses: seeded by the DIET's random_seed
        return self.model_data._data_for_ids(data, bucketed_order(lengths[0], batch_size, np.random))


@contextmanager
def _bucketed_batches(on: bool) -> Iterator[None]:
    """DIET.train makes its batches with train_utils.create_data_generators, which names RasaBatchDataGenerator; for the
    length of one member's training it names the bucketed one (one training at a time in a process)."""
    original = train_utils.RasaBatchDataGenerator
    if on:
        train_utils.RasaBatchDataGenerator = LengthBucketedBatchDataGenerator
    try:
        yield
    finally:
        train_utils.RasaBatchDataGenerator = original


def _train_member(member: DIETClassifier, training_data: TrainingData, bucket_by_length: bool) -> None:
    """Trains one member and persists it into its folder (run in this process or a spawned one)."""
    with _bucketed_batches(bucket_by_length):
        member.train(training_data)


def _train_pickled(payload: bytes) -> None:
    """_train_member in a spawned process, its arguments pickled before this process trained anything: the pool
    pickles in a thread of its own, and the training data must not change under it."""
    _train_member(*pickle.loads(payload))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AveragedDIETClassifier(GraphComponent, IntentClassifier):
    """DIETs with their own seeds; a message's intent ranking is the mean of theirs."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return DIETClassifier.required_components()

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DIETClassifier.get_default_config(), SEEDS: [], PARALLEL: True, BUCKET_BY_LENGTH: True}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, members: Optional[List[DIETClassifier]] = None) -> None:
        seeds = config.get(SEEDS)
        if not isinstance(seeds, list) or not seeds or not all(isinstance(seed, int) for seed in seeds) \
                or len(set(seeds)) != len(seeds):
            raise InvalidConfigException(f"{type(self).__name__}: '{SEEDS}' must list one or more different whole "
                                         f"numbers, one per DIET (bot/config.yml), got {seeds!r}")
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._execution_context = execution_context
        self.members = members or []

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> AveragedDIETClassifier:
        return cls(config, model_storage, resource, execution_context)

    @staticmethod
    def _member_config(config: Dict[Text, Any], seed: int) -> Dict[Text, Any]:
        own = {key: value for key, value in config.items() if key not in OWN_OPTIONS}
        return {**DIETClassifier.get_default_config(), **own, RANDOM_SEED: seed}

    @staticmethod
    def _member_resource(seed: int) -> Resource:
        return Resource(f"diet_seed_{seed}")

    def train(self, training_data: TrainingData) -> Resource:
        bucket = bool(self.component_config[BUCKET_BY_LENGTH])
        with self._model_storage.write_to(self._resource) as directory:
            # each member persists itself into a folder of this component's resource
            storage = LocalModelStorage(Path(directory))
            members = [DIETClassifier.create(self._member_config(self.component_config, seed), storage,
                                             self._member_resource(seed), self._execution_context)
                       for seed in self.component_config[SEEDS]]
            if self.component_config[PARALLEL] and len(members) > 1:
                with ProcessPoolExecutor(max_workers=len(members) - 1,
                                         mp_context=multiprocessing.get_context("spawn")) as pool:
                    others = [pool.submit(_train_pickled, pickle.dumps((member, training_data, bucket)))
                              for member in members[1:]]
                    _train_member(members[0], training_data, bucket)
                    for other in others:
                        other.result()  # a member's failure fails the training, with its own error
            else:
                for member in members:
                    _train_member(member, training_data, bucket)
        # the members trained in other processes exist only on disk here: a trained model is used through load()
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> AveragedDIETClassifier:
        members = []
        with model_storage.read_from(resource) as directory:
            storage = LocalModelStorage(Path(directory))
            for seed in config.get(SEEDS) or []:
                if not (Path(directory) / cls._member_resource(seed).name).is_dir():
                    raise InvalidConfigException(
                        f"{cls.__name__}: the model has no DIET of seed {seed} ('{SEEDS}' in bot/config.yml "
                        f"names seeds this model was not trained with): retrain it (make model)")
                members.append(DIETClassifier.load(cls._member_config(config, seed), storage,
                                                   cls._member_resource(seed), execution_context))
        return cls(config, model_storage, resource, execution_context, members)

    def process(self, messages: List[Message]) -> List[Message]:
        means: List[tuple] = [([], 0)] * len(messages)
        for member in self.members:
            member.process(messages)  # sets each message's intent and whole ranking (ranking_length: 0)
            for index, message in enumerate(messages):
                own = message.get(INTENT_RANKING_KEY)
                if own:  # nothing to rank (an empty text): that member's answer stands
                    mean, counted = means[index]
                    means[index] = (mean_ranking(mean, counted, own), counted + 1)
        for message, (mean, counted) in zip(messages, means):
            if counted:
                message.set(INTENT_RANKING_KEY, mean[:RANKED], add_to_output=True)
                message.set(INTENT, mean[0], add_to_output=True)
        return messages
