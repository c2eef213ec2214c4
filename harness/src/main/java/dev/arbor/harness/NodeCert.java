package dev.arbor.harness;

import java.nio.file.Path;

/** A PEM certificate and its private key, as the server's {@code --*-cert-file/--*-key-file} take. */
public record NodeCert(Path certFile, Path keyFile) {}
