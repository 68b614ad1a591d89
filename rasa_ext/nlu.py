"""A jieba tokenizer that first normalises the text (繁體, full-width) and drops whitespace tokens, the words of
courtesy around a question and the frame of asking for someone (chattext.content_words)."""

from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from chattext import content_words, normalize


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer on normalised text; positions still point into the original text."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        text = normalize(message.get(attribute) or "")
        # Rasa 3.6 keeps whitespace tokens, which breaks spaced and mixed zh/en input (rasa #7910)
        tokens = [Token(word, start) for word, start, _end in jieba.tokenize(text) if word.strip()]
        tokens = [tokens[index] for index in content_words([token.text for token in tokens])]
        return self._apply_token_pattern(tokens)
