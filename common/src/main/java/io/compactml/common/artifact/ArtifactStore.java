package io.compactml.common.artifact;

import io.compactml.common.Checksums;
import io.compactml.common.Errors;
import io.compactml.common.HadoopFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Artifacts under {@code <root>/<model>/<version>/} on any Hadoop file system.
 *
 * <p>Publish protocol: (1) if the version has a manifest, the same files make the call a no-op and different
 * files are refused (versions are immutable); a directory without a manifest is the leftover of an
 * interrupted publish and is cleared; (2) every file is written, read back and checked (size, sha256);
 * (3) {@code manifest.json} is written last; (4) {@code <root>/<model>/LATEST} then names the version.
 */
public final class ArtifactStore {
    public static final String LATEST = "LATEST";

    private final String root;
    private final Configuration hadoop;

    public ArtifactStore(String root, Configuration hadoop) {
        this.root = root;
        this.hadoop = hadoop;
    }

    /** What a publish did. */
    public record Published(String dir, Manifest manifest, boolean alreadyPresent) {}

    public String dir(String model, String version) {
        return new Path(new Path(root, model), version).toString();
    }

    /**
     * Publishes {@code files} (relative path to content) with the manifest built from their entries.
     *
     * @throws io.compactml.common.CompactMLException when the version exists with other content
     */
    public Published publish(
            String model,
            String version,
            Map<String, byte[]> files,
            Function<List<Manifest.FileEntry>, Manifest> manifestFor) {
        Path dir = new Path(dir(model, version));
        List<Manifest.FileEntry> entries = new ArrayList<>();
        files.forEach(
                (name, bytes) -> entries.add(new Manifest.FileEntry(name, bytes.length, Checksums.sha256(bytes))));
        try {
            FileSystem fs = HadoopFiles.fs(dir, hadoop);
            Path manifestPath = new Path(dir, Manifest.FILE_NAME);
            if (fs.exists(manifestPath)) {
                Manifest existing = readManifest(fs, manifestPath);
                if (!sameFiles(existing.files(), entries)) {
                    throw Errors.artifactConflict(dir.toString(), "file checksums differ");
                }
                return new Published(dir.toString(), existing, true);
            }
            if (fs.exists(dir)) {
                fs.delete(dir, true);
            }
            fs.mkdirs(dir);
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Path p = new Path(dir, f.getKey());
                HadoopFiles.write(fs, p, f.getValue());
            }
            for (Manifest.FileEntry e : entries) {
                check(fs, dir, e);
            }
            Manifest manifest = manifestFor.apply(List.copyOf(entries));
            HadoopFiles.writeAtomically(fs, manifestPath, manifest.toJson());
            HadoopFiles.writeAtomically(
                    fs, new Path(dir.getParent(), LATEST), (version + "\n").getBytes(StandardCharsets.UTF_8));
            return new Published(dir.toString(), manifest, false);
        } catch (IOException e) {
            throw new UncheckedIOException("Publishing " + dir, e);
        }
    }

    /** Reads an artifact's manifest and checks every file's size and sha256 against it. */
    public Manifest verify(String model, String version) {
        Path dir = new Path(dir(model, version));
        try {
            FileSystem fs = HadoopFiles.fs(dir, hadoop);
            Path manifestPath = new Path(dir, Manifest.FILE_NAME);
            if (!fs.exists(manifestPath)) {
                throw Errors.artifactCorrupt(dir.toString(), "no manifest.json: the artifact was never published");
            }
            Manifest m = readManifest(fs, manifestPath);
            for (Manifest.FileEntry e : m.files()) {
                check(fs, dir, e);
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("Verifying " + dir, e);
        }
    }

    /** The version {@code <root>/<model>/LATEST} names; empty when nothing of the model was published. */
    public java.util.Optional<String> latest(String model) {
        Path p = new Path(new Path(root, model), LATEST);
        try {
            FileSystem fs = HadoopFiles.fs(p, hadoop);
            if (!fs.exists(p)) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(new String(HadoopFiles.readAll(fs, p), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + p, e);
        }
    }

    /** Reads one file of an artifact. */
    public byte[] read(String model, String version, String file) {
        Path p = new Path(new Path(dir(model, version)), file);
        try (InputStream in = HadoopFiles.fs(p, hadoop).open(p)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + p, e);
        }
    }

    private static boolean sameFiles(List<Manifest.FileEntry> a, List<Manifest.FileEntry> b) {
        return new java.util.HashSet<>(a).equals(new java.util.HashSet<>(b));
    }

    private static Manifest readManifest(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return Manifest.fromJson(in.readAllBytes());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw Errors.artifactCorrupt(p.toString(), "unreadable manifest: " + e.getOriginalMessage());
        }
    }

    private static void check(FileSystem fs, Path dir, Manifest.FileEntry e) throws IOException {
        Path p = new Path(dir, e.path());
        if (!fs.exists(p)) {
            throw Errors.artifactCorrupt(dir.toString(), "file " + e.path() + " is missing");
        }
        byte[] actual = HadoopFiles.readAll(fs, p);
        if (actual.length != e.size()) {
            throw Errors.artifactCorrupt(
                    dir.toString(), "file " + e.path() + " has " + actual.length + " bytes, manifest says " + e.size());
        }
        String sha = Checksums.sha256(actual);
        if (!sha.equals(e.sha256())) {
            throw Errors.artifactCorrupt(
                    dir.toString(),
                    "file " + e.path() + " has sha256 " + sha + ", manifest says " + e.sha256()
                            + " (tampered or damaged)");
        }
    }
}
