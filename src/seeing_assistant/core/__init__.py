"""The Qt-free core: errors and messages, inputs, the model engine, speech recognition, settings, the session."""
