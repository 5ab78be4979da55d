"""The rules and test stories as trackers, for tests that compare our Rasa-side code with Rasa's."""

from __future__ import annotations

from typing import List

from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from tests.conftest import PROJECT_ROOT


def story_trackers(domain: Domain, with_rules: bool = True) -> List[DialogueStateTracker]:
    """Every test story (tests/stories/), and every rule (data/rules/) unless told otherwise.
    The generator's order varies from call to call: generate once per test module."""
    paths = [str(PROJECT_ROOT / "tests" / "stories")] + ([str(PROJECT_ROOT / "data" / "rules")] if with_rules else [])
    importer = TrainingDataImporter.load_from_dict(domain_path=str(PROJECT_ROOT / "domain.yml"), training_data_paths=paths)
    graph = importer.get_stories().merge(importer.get_conversation_tests()) if with_rules else importer.get_conversation_tests()
    return TrainingDataGenerator(graph, domain, remove_duplicates=False, augmentation_factor=0).generate()
