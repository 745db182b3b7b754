"""The test suite; its folders mirror generator/."""
