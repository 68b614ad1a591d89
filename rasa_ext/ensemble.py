"""DIET classifiers that average their intent rankings: two or more in bot/config.yml, each with its own random_seed,
make one classifier whose ranking is their mean.

One DIET's confidences move with its seed alone (seed 4242 -> 4243 moved the bundle questions turned away 50 -> 66 and
the uncovered questions given a checklist 20 -> 28: README, "Measuring understanding"); the mean of two trained for half
the epochs each takes about the training time of one and moves less. Each member sets the message's intent ranking to the mean
of its own and the members' before it, so the last member's ranking is the mean of all of them.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from assistant.ensemble import mean_ranking

# how many members have ranked this message so far, and the mean of their whole rankings (each member has
# ranking_length: 0, every intent); kept on the message, not in the parse output
MEMBERS = "yishi_ensemble_members"
MEAN = "yishi_ensemble_mean"
# the parse output keeps this many of the mean's best, as one DIET's ranking_length would
RANKED = 10


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AveragedDIETClassifier(DIETClassifier):
    """DIETClassifier whose ranking is averaged with those of the AveragedDIETClassifiers before it in the pipeline."""

    def process(self, messages: List[Message]) -> List[Message]:
        before = [(message.get(MEAN) or [], message.get(MEMBERS) or 0) for message in messages]
        messages = super().process(messages)
        for message, (mean, members) in zip(messages, before):
            own = message.get(INTENT_RANKING_KEY)
            if not own:  # nothing to rank (an empty text): DIET's own answer stands
                continue
            mean = mean_ranking(mean, members, own)
            message.set(MEAN, mean)
            message.set(MEMBERS, members + 1)
            message.set(INTENT_RANKING_KEY, mean[:RANKED], add_to_output=True)
            message.set(INTENT, mean[0], add_to_output=True)
        return messages
