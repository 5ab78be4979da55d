"""Rasa's model graph run node after node in an order worked out once, instead of through dask.

Every shopper message runs the model's graph three or four times: once to parse the message
(the NLU pipeline) and once per predicted action (the policies). Rasa 3.6's
`DaskGraphRunner.run` works out the part of the graph the targets need
(`minimal_graph_schema`, which copies the schema), builds a dask graph and lets dask's
synchronous scheduler order and run it, each time: about half a millisecond per run on these
cores, for graphs that never change while a model is loaded.

Here the steps for a set of targets (the nodes they need, dependencies first) are worked out
on the first run and kept with the runner; a run calls each node with its parents' outputs,
exactly as dask calls them (a node gets `(name, output)` pairs and returns one; an input
is `(input name, value)`). Errors are Rasa's: a clash between an input's value and a node
name, and a node's RuntimeError as GraphRunError. tests/test_bot/test_graph_runner.py
checks parses and predictions of the trained model against dask's.

`install()` puts this in Rasa's place; bot/rasa_server.py calls it before Rasa starts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode, GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

PLANS = "_shouhou_plans"

Step = Tuple[Text, GraphNode, Tuple[Text, ...]]  # node name, node, the keys of its inputs


def steps_for(schema: GraphSchema, nodes: Dict[Text, GraphNode], targets: List[Text]) -> List[Step]:
    """The nodes the targets need, each after the nodes it needs (depth first, in `needs` order)."""
    needed = schema.minimal_graph_schema(targets)
    ordered: List[Step] = []
    done: set = set()

    def visit(name: Text) -> None:
        if name in done or name not in needed.nodes:
            return  # done already, or an input (a placeholder the caller provides)
        done.add(name)
        parents = tuple(needed.nodes[name].needs.values())
        for parent in parents:
            visit(parent)
        ordered.append((name, nodes[name], parents))

    for target in targets:
        visit(target)
    return ordered


def run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    """Same contract as `DaskGraphRunner.run`."""
    run_targets = list(targets) if targets else list(self._graph_schema.target_names)
    plans: Dict[Tuple[Text, ...], List[Step]] = self.__dict__.setdefault(PLANS, {})
    key = tuple(run_targets)
    if key not in plans:
        plans[key] = steps_for(self._graph_schema, self._instantiated_nodes, run_targets)
    steps = plans[key]
    values: Dict[Text, Any] = {}
    node_names = {name for name, _, _ in steps}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and (input_value in node_names or input_value in values):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[input_name] = (input_name, input_value)
    try:
        for name, node, parents in steps:
            values[name] = node(*(values[parent] for parent in parents))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(values[target] for target in run_targets)


def install() -> None:
    DaskGraphRunner.run = run  # type: ignore[method-assign]
