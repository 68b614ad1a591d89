"""Measured hot spots of Rasa 3.6 on Yishi's traffic (py-spy under 20 users, bench/chat_bench.py).

1. RemoteAction._validate_action_result calls jsonschema.validate() on every action response, which
re-checks the response schema against its metaschema each time. Under 20 concurrent users that was
about half of the Rasa server's CPU (py-spy, see bench/chat_bench.py). The same check with the
validator built once gives the same errors at a fraction of the cost. Even so, a response's three
events cost 2.4 ms (py-spy: the largest part of an action call): the schema's events are a oneOf of 23
branches, one per event type, and every branch is tried on every event. Each branch requires its own
"event" constant, so an event of a known type is checked against the shared part and its own branch
only (0.35 ms); any other response, and every invalid one, goes through the whole schema as before,
which reports the error.

2. RemoteAction._action_call_format sends the action server every event of the conversation, each
earlier bundle answer with its whole checklist (10–25 KB of JSON each), so every action call grew
with the conversation. Yishi's actions read slots and the latest message only (actions/), never an
earlier reply's payload, so the checklists of earlier replies are left out of the call; their
text, buttons and payload type still go. The tracker store and the channels keep them whole.

3. Event.resolve_by_type, called for every stored event each time a conversation is loaded, walks all
of Event's subclasses (rasa.shared.utils.common.all_subclasses, recursively, with an isabstract
check each) to find the one class with that type name: 20 % of the Rasa server's busy time on one
long conversation (py-spy). The same lookup from a table built once, first match first as Rasa's
loop has it; a name not in the table goes to Rasa's own code.

4. RasaModel._rasa_predict (DIET, once per message) calls its tf.function, which on every call canonicalises
the inputs against the function's signature and looks the traced graph up again: 1.6 ms of a 14 ms parse (an
in-process A/B over 400 held-out texts, the patch on and off in turn). Once traced, the same concrete function
is called directly with the inputs converted to its signature's dtypes; the same graph gives the same scores. A numpy
array becomes its EagerTensor as tf.convert_to_tensor makes one in the end (constant_op.convert_to_eager_tensor),
without the dispatch and conversion registry on the way there: 1.3 ms a parse for about 25 inputs (py-spy --gil).

5. DaskGraphRunner.run (every parse and every policy prediction, three times a message) hands the model's
graph to dask's scheduler, which queues each node through a thread pool and orders the tasks anew on every
run, though the graph runs node after node in one thread: 2.3 ms of a message (the same kind of A/B, whole
messages through Agent.handle_message). The same nodes of the same minimal graph are called in dependency
order, the order worked out once per set of targets.

6. RulePolicy._get_possible_keys (four times a message) tries every rule of the model (152 lookup keys, one
intent each) against the conversation's latest state, through a general matcher, before it looks further
back. A rule whose last state names a previous action or an intent can only match a latest state with that
action and intent (RulePolicy._does_rule_match_state), so the rules are indexed by those two once per lookup,
and the same matcher then runs over the rules the index leaves, state after state, stopping once no rule is
left or every rule left is shorter than the states seen (RulePolicy._is_rule_applicable is true from there on).

7. MessageProcessor and RulePolicy deep-copy what they pass to structlogger.debug() (a turn's events, bundle
answers with their whole checklist among them; the rule states), so that Rasa's log anonymisation may rewrite
them: 1.0 ms of a message (py-spy, --gil), spent while debug logging is off and no anonymisation pipeline is
installed (Rasa Pro's), when the values are never read. Those two modules use `copy` for nothing else; they
are given one that copies only when debug logging is on for them or a pipeline is installed.

8. Features._combine_sparse_features (twice a parse: the two count featurizers' sequence and sentence features) joins
two COO matrices with scipy.sparse.hstack, whose general block-matrix code (bmat) converts and checks each block
again: 0.45 ms a call. Two COO matrices are joined here as bmat joins them (the same data, row and column arrays in
the same order and dtypes, one coo_matrix built from them) in 0.13 ms; anything else goes to Rasa's own code.

9. model_data_utils._create_fake_features (once a parse) deep-copies an example of each feature, matrix included, to
replace the matrix with an empty one at once: 0.35 ms. The example is copied without its matrix.

10. Domain.is_empty (once a parse, MessageProcessor._check_for_unseen_features) builds an empty Domain to compare
with: 0.25 ms. Its dictionary is made once.

11. CountVectorsFeaturizer._create_features (twice a parse, once per count featurizer) calls scikit-learn's
CountVectorizer.transform twice, for the tokens and for the whole text, then sorts and converts the CSR matrix to COO:
1.8 ms a parse (py-spy --gil), most of it in building the analyzer again, checking the vocabulary and building and
checking the two matrices. With a fitted CountVectorizer of scikit-learn as the featurizer has one, the counts are
made here as its _count_vocab makes them (the same analyzer, made once per vectorizer; the same vocabulary; columns in
order; binary counts set to 1) straight into the COO matrix that .tocoo() gives (the same arrays and dtypes); any other
vectorizer goes to Rasa's own code.

12. EndpointConfig.request (every action call, one or two a message) makes a new aiohttp ClientSession, with a new
connector and a new connection to the action server, and closes them after the one request. The session of an
endpoint's settings (headers, basic auth, timeout) is kept per event loop, and its connections are kept alive between
calls for at most KEEP_IDLE_S, below the action server's own keep-alive (Sanic's 5 s), so the server never closes one
as a call goes out on it; a connection it has closed (a restart) is seen by aiohttp and not reused. No limit on
connections, as before. Rasa's two callers (EndpointConfig.request, the model server's pull in rasa.core.agent) use
the session in `async with`, which leaves a kept session open; the Rasa server closes them as it stops.

Each checkout's whole stack interleaved message by message (bench/web_ab.py REF --whole-stack, 320 messages):
4–6 gave p50 0.88× and CPU per message 0.88× the commit before them; with 1's event-by-event check and 7,
0.84× and 0.83× (the Rasa server's CPU 34.6 → 27.2 ms a message). With 8–10 and the tracker store's and web app's
changes of the same day (rasa_ext/tracker_store.py, yishi/rasa_client.py), 0.86× and 0.86× against 0ab7670 (the Rasa
server's CPU 25.8 → 21.8 ms a message). 11, 12 and item 4's EagerTensors: 0.97× and 0.96× against f1fee24 (the Rasa
server's CPU 19.8 → 18.7 ms a message). tests/rasa_ext/test_rasa_side.py checks that the trained model gives the same
confidences, replies and stored events with them as without.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import gc
import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import aiohttp
import numpy as np
import rasa.core.policies.rule_policy
import rasa.core.processor
import scipy.sparse
import tensorflow as tf
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from keras.utils import tf_utils
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.constants import DIAGNOSTIC_DATA, DOCS_BASE_URL
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.nlu.constants import ACTION_NAME, INTENT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow import model_data_utils
from rasa.utils.tensorflow.models import RasaModel
from scipy.sparse._sputils import get_index_dtype, upcast
from sklearn.feature_extraction.text import CountVectorizer
from tensorflow.python.eager import context
from tensorflow.python.framework.ops import EagerTensor


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _validators_by_event() -> Any:
    """(the response schema without the events' oneOf, {event type: that type's branch of the oneOf}), or None when
    the branches are not told apart by one required "event" constant each (then only the whole schema is used)."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    item = schema.get("properties", {}).get("events", {}).get("items")
    branches = item.get("oneOf") if isinstance(item, dict) else None
    if not isinstance(branches, list) or "event" not in item.get("required", ()):
        return None
    types = [((branch.get("properties") or {}).get("event") or {}).get("const") for branch in branches]
    if not all(isinstance(kind, str) for kind in types) or len(set(types)) != len(types):
        return None
    shared = copy.deepcopy(schema)
    del shared["properties"]["events"]["items"]["oneOf"]
    return cls(shared), {kind: cls(branch) for kind, branch in zip(types, branches, strict=True)}


def _is_valid(result: Any) -> bool:
    """The whole schema's verdict, reached faster: an event's "event" matches one branch's constant and fails every
    other branch of the oneOf, so the oneOf holds exactly when that branch does."""
    split = _validators_by_event()
    events = result.get("events") if isinstance(result, dict) else None
    if split is None or not isinstance(events, list) or not all(
            isinstance(event, dict) and isinstance(event.get("event"), str) and event["event"] in split[1]
            for event in events):
        return _validator().is_valid(result)
    shared, branches = split
    return shared.is_valid(result) and all(branches[event["event"]].is_valid(event) for event in events)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    if _is_valid(result):
        return True
    error = best_match(_validator().iter_errors(result))  # the whole schema's own error, as Rasa reports it
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from "
                      f"the Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
    raise error


_rasa_action_call_format = RemoteAction._action_call_format


def _without_checklists(event: Dict[Text, Any]) -> Dict[Text, Any]:
    """A bot event as the action server gets it: an earlier reply's checklist left out."""
    data = event.get("data")
    custom = data.get("custom") if isinstance(data, dict) else None
    if event.get("event") != "bot" or not isinstance(custom, dict) or "checklist" not in custom:
        return event
    slim = {key: value for key, value in custom.items() if key != "checklist"}
    return {**event, "data": {**data, "custom": slim}}


def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
    result = _rasa_action_call_format(self, tracker, domain)
    state = result["tracker"]
    state["events"] = [_without_checklists(event) for event in state["events"]]
    return result


_rasa_resolve_by_type = Event.resolve_by_type
_event_types: Dict[Text, Any] = {}


def _resolve_by_type(type_name: Text, default: Any = None) -> Any:
    found = _event_types.get(type_name)
    if found is None:  # first use, or a class defined since: the table again, in Rasa's order
        for cls in all_subclasses(Event):
            _event_types.setdefault(cls.type_name, cls)
        found = _event_types.get(type_name)
    return found if found is not None else _rasa_resolve_by_type(type_name, default)


_rasa_predict_step = RasaModel._rasa_predict


def _rasa_predict(self: RasaModel, batch_in: Any) -> Dict[Text, Any]:
    concrete = self.__dict__.get("_yishi_concrete")
    if concrete is None:  # the first prediction traces the graph as Rasa does
        outputs = _rasa_predict_step(self, batch_in)
        if self._tf_predict_step is not None and not self._run_eagerly:
            concrete = self._tf_predict_step.get_concrete_function()
            self._yishi_dtypes = [spec.dtype for spec in concrete.structured_input_signature[0][0]]
            self._yishi_concrete = concrete
        return outputs
    device = context.context().device_name
    inputs = [EagerTensor(value, device, dtype.as_datatype_enum) if type(value) is np.ndarray
              else tf.convert_to_tensor(value, dtype=dtype) for value, dtype in zip(batch_in, self._yishi_dtypes, strict=True)]
    outputs = tf_utils.sync_to_numpy_or_python_type(concrete._call_flat(inputs, concrete.captured_inputs))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


def _run_order(runner: DaskGraphRunner, targets: List[Text]) -> List[Any]:
    """(node name, node, the names it needs) for the targets' minimal graph, every node after those it needs."""
    orders = runner.__dict__.setdefault("_yishi_orders", {})
    key = tuple(targets)
    if key not in orders:
        schema = runner._graph_schema.minimal_graph_schema(targets)
        order: List[Any] = []
        placed: set = set()

        def place(name: Text) -> None:
            if name in placed or name not in schema.nodes:
                return
            placed.add(name)
            needs = tuple(schema.nodes[name].needs.values())
            for need in needs:
                place(need)
            order.append((name, runner._instantiated_nodes[name], needs))

        for target in targets:
            place(target)
        orders[key] = order
    return orders[key]


def _run_graph(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
               targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    run_targets = targets if targets else self._graph_schema.target_names
    order = _run_order(self, run_targets)
    results: Dict[Text, Any] = {}
    for name, value in (inputs or {}).items():  # as dask's graph holds them: (name, value)
        if isinstance(value, str) and (value in results or any(value == node for node, _, _ in order)):
            raise GraphRunError(f"Input value '{value}' clashes with a node name. Make sure that none of the input "
                                f"names passed to the `run` method are the same as node names in the graph schema.")
        results[name] = (name, value)
    try:
        for name, node, needs in order:
            results[name] = node(*[results.get(need, need) for need in needs])
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[target] for target in run_targets)


def _required(sub_state: Any, feature: Text) -> Optional[Text]:
    """The value a rule's sub-state requires of the conversation's, as _does_rule_match_state reads it (None: any)."""
    value = sub_state.get(feature) if isinstance(sub_state, dict) else None
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else None


def _current(sub_state: Any, feature: Text) -> Optional[Text]:
    """The conversation's value (None when it has none, or one no rule's required value can equal)."""
    value = sub_state.get(feature) if isinstance(sub_state, dict) else None
    return value if isinstance(value, str) else None


def _rule_index(policy: RulePolicy, lookup: Dict[Text, Any]) -> Any:
    """(every key that needs a look, keys by the (previous action, intent) their last state requires, each key's
    length), built once per lookup of a loaded policy."""
    indexes = policy.__dict__.setdefault("_yishi_rule_indexes", {})
    found = indexes.get(id(lookup))
    if found is None or found[0] is not lookup or found[1] != len(lookup):
        always, by_need, lengths = [], collections.defaultdict(list), {}
        for key in lookup:
            states = policy._rule_key_to_state(key)
            lengths[key] = len(states)
            last = states[-1] if states else None
            if not last or not last.get(PREVIOUS_ACTION):  # a conversation start: matched by other branches
                always.append(key)
            else:
                by_need[(_required(last[PREVIOUS_ACTION], ACTION_NAME), _required(last.get(USER), INTENT))].append(key)
        found = indexes[id(lookup)] = (lookup, len(lookup), always, dict(by_need), lengths)
    return found


_rasa_get_possible_keys = RulePolicy._get_possible_keys


def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[Any]) -> set:
    if not states:
        return set(lookup.keys())
    _, _, always, by_need, lengths = _rule_index(self, lookup)
    latest = states[-1]
    action, intent = _current(latest.get(PREVIOUS_ACTION), ACTION_NAME), _current(latest.get(USER), INTENT)
    possible = set(always)
    for need in {(action, intent), (action, None), (None, intent), (None, None)}:
        possible.update(by_need.get(need, ()))
    for i, state in enumerate(reversed(states)):
        if not possible or all(lengths[key] <= i for key in possible):
            break
        possible = {key for key in possible if self._is_rule_applicable(key, i, state)}
    return possible


class _CopyForDebugLogs:
    """The `copy` module as rasa.core.processor and rasa.core.policies.rule_policy see it (item 7)."""

    def __init__(self, module: Text) -> None:
        self.logger = logging.getLogger(module)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from rasa.plugin import plugin_manager

        if self.logger.isEnabledFor(logging.DEBUG) or plugin_manager().hook.get_anonymization_pipeline():
            return copy.deepcopy(value, memo)
        return value

    def __getattr__(self, name: Text) -> Any:
        return getattr(copy, name)


def freeze_heap(*_args: Any) -> None:
    """Move everything alive now out of the garbage collector's reach (a Sanic listener, after start).

    A Rasa server holds millions of long-lived objects (TensorFlow, the model); every full
    collection walked all of them, 350–470 ms each in the middle of somebody's message (measured
    with gc.callbacks under bench/chat_bench.py). Frozen, they are never walked again; objects made
    later are collected as usual.
    """
    gc.collect()
    gc.freeze()
    logging.getLogger(__name__).info("heap frozen after start: %d objects", gc.get_freeze_count())


def _create_fake_features(all_features: List[List[List[Features]]]) -> List[Features]:
    """Rasa's _create_fake_features: default (empty) features like the first features found, their matrix not
    copied before it is replaced."""
    example = next(features for per_example in all_features for features in per_example if features is not None)
    fake = []
    for features in example:
        matrix = features.features
        features.features = None
        try:
            made = copy.deepcopy(features)
        finally:
            features.features = matrix
        if features.is_dense():
            made.features = np.zeros((0, matrix.shape[-1]), matrix.dtype)
        if features.is_sparse():
            made.features = scipy.sparse.coo_matrix((0, matrix.shape[-1]), matrix.dtype)
        fake.append(made)
    return fake


_rasa_combine_sparse_features = Features._combine_sparse_features
combined = collections.Counter()  # sparse features joined here ("coo") and by Rasa's own code ("rasa")


def _combine_sparse_features(self: Features, additional_features: Features) -> None:
    first, second = self.features, additional_features.features
    if type(first) is not scipy.sparse.coo_matrix or type(second) is not scipy.sparse.coo_matrix \
            or first.shape[0] != second.shape[0]:
        combined["rasa"] += 1
        _rasa_combine_sparse_features(self, additional_features)  # other formats; the error of unequal lengths
        return
    combined["coo"] += 1
    self.features = _hstack_coo(first, second)
    self._cached_fingerprint = None


def _hstack_coo(first: Any, second: Any) -> Any:
    """scipy.sparse.hstack([first, second]) of two COO matrices, as its bmat builds it."""
    shape = (first.shape[0], first.shape[1] + second.shape[1])
    index = get_index_dtype(maxval=max(shape))
    data = np.concatenate([first.data, second.data]).astype(upcast(first.dtype, second.dtype), copy=False)
    row = np.concatenate([first.row.astype(index, copy=False), second.row.astype(index, copy=False)])
    col = np.concatenate([first.col.astype(index, copy=False), np.add(second.col, first.shape[1], dtype=index)])
    return scipy.sparse.coo_matrix((data, (row, col)), shape=shape)


@lru_cache(maxsize=1)
def _empty_domain() -> Dict[Text, Any]:
    return Domain.empty().as_dict()


def _domain_is_empty(self: Domain) -> bool:
    return self.as_dict() == _empty_domain()


_rasa_create_features = CountVectorsFeaturizer._create_features
counted = collections.Counter()  # count features made here ("here") and by Rasa's own code ("rasa")


def _counted(vectorizer: CountVectorizer, documents: List[Text]) -> Any:
    """vectorizer.transform(documents), sorted and as COO (item 11)."""
    analyze = vectorizer.__dict__.get("_yishi_analyzer")
    if analyze is None:
        analyze = vectorizer._yishi_analyzer = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    rows: List[int] = []
    columns: List[int] = []
    counts: List[int] = []
    for row, document in enumerate(documents):
        found: Dict[int, int] = {}
        for feature in analyze(document):
            column = vocabulary.get(feature)
            if column is not None:
                found[column] = found.get(column, 0) + 1
        for column in sorted(found):
            rows.append(row)
            columns.append(column)
            counts.append(1 if vectorizer.binary else found[column])
    return scipy.sparse.coo_matrix(
        (np.array(counts, dtype=vectorizer.dtype), (np.array(rows, np.int32), np.array(columns, np.int32))),
        shape=(len(documents), len(vocabulary)))


def _create_features(self: CountVectorsFeaturizer, attribute: Text, all_tokens: List[List[Text]]) -> Any:
    vectorizer = self.vectorizers.get(attribute)
    if not vectorizer:
        return [None], [None]  # as Rasa's: nothing to featurize for this attribute
    if type(vectorizer) is not CountVectorizer or (not hasattr(vectorizer, "vocabulary_") and any(all_tokens)):
        counted["rasa"] += 1  # (an unfitted vectorizer with tokens to count: scikit-learn's error)
        return _rasa_create_features(self, attribute, all_tokens)
    counted["here"] += 1
    sequence_features: List[Any] = []
    sentence_features: List[Any] = []
    for tokens in all_tokens:
        if not tokens:
            sequence_features.append(None)
            sentence_features.append(None)
            continue
        sequence_features.append(_counted(vectorizer, tokens))
        sentence_features.append(_counted(vectorizer, [" ".join(tokens)])
                                 if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None)
    return sequence_features, sentence_features


KEEP_IDLE_S = 2.0
_sessions: Dict[Any, aiohttp.ClientSession] = {}
sessions_made = collections.Counter()  # kept sessions made, per endpoint URL (a test's proof the patch is used)


class _Kept:
    """`async with` over a kept session: enters it, leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


def _session(self: EndpointConfig) -> _Kept:
    """EndpointConfig.session (item 12): the kept session of this loop and these settings, made as Rasa makes one."""
    loop = asyncio.get_running_loop()
    auth = (self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    key = (loop, tuple(sorted(self.headers.items())), auth)
    session = _sessions.get(key)
    if session is None or session.closed:
        for old in [k for k in _sessions if k[0].is_closed()]:  # sessions of loops that have ended
            del _sessions[old]
        session = _sessions[key] = aiohttp.ClientSession(
            headers=self.headers, auth=aiohttp.BasicAuth(*auth) if auth else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEP_IDLE_S))
        sessions_made[self.url] += 1
    return _Kept(session)


async def close_sessions(*_args: Any) -> None:
    """Close this loop's kept sessions (a Sanic listener, before the server stops)."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _sessions if k[0] is loop]:
        await _sessions.pop(key).close()


def install() -> None:
    """Replace the methods (idempotent)."""
    Features._combine_sparse_features = _combine_sparse_features
    model_data_utils._create_fake_features = _create_fake_features
    Domain.is_empty = _domain_is_empty
    CountVectorsFeaturizer._create_features = _create_features
    EndpointConfig.session = _session
    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction._action_call_format = _action_call_format
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    RasaModel._rasa_predict = _rasa_predict
    DaskGraphRunner.run = _run_graph
    RulePolicy._get_possible_keys = _get_possible_keys
    for module in (rasa.core.processor, rasa.core.policies.rule_policy):
        if not isinstance(module.copy, _CopyForDebugLogs):
            module.copy = _CopyForDebugLogs(module.__name__)


