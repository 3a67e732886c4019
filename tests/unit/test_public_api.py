import bridge

EXPECTED = {
    "BridgeConfig",
    "BridgeError",
    "ConfigError",
    "ArtifactError",
    "DbtNode",
    "DbtProject",
    "Relation",
    "build_config",
    "load_config",
    "read_manifest",
    "read_run_results",
    "read_catalog",
    "__version__",
}


def test_public_api_is_what_we_promise() -> None:
    assert set(bridge.__all__) == EXPECTED
    for name in bridge.__all__:
        assert getattr(bridge, name) is not None
