package io.compactml.jobs.reliability;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.TaskContext;

/**
 * The local file system under the scheme {@code faulty:}, whose {@code open} fails in the first attempt of every
 * task of partition 0 while {@link #ARMED}: a task failure Spark retries (with {@code spark.task.maxFailures} > 1,
 * {@code local[n,f]} in local mode), injected where every job starts, reading its data. Reads on the driver never
 * fail.
 */
public final class FaultyFileSystem extends RawLocalFileSystem {
    public static volatile boolean ARMED = false;
    public static final AtomicInteger INJECTED = new AtomicInteger();

    @Override
    public URI getUri() {
        return URI.create("faulty:///");
    }

    @Override
    public String getScheme() {
        return "faulty";
    }

    private final RawLocalFileSystem local = new RawLocalFileSystem();

    @Override
    public void initialize(URI name, org.apache.hadoop.conf.Configuration conf) throws IOException {
        super.initialize(name, conf);
        local.initialize(URI.create("file:///"), conf);
    }

    private static Path local(Path p) {
        return new Path("file", null, p.toUri().getPath());
    }

    private static FileStatus faulty(FileStatus s) {
        return new FileStatus(
                s.getLen(),
                s.isDirectory(),
                s.getReplication(),
                s.getBlockSize(),
                s.getModificationTime(),
                s.getAccessTime(),
                s.getPermission(),
                s.getOwner(),
                s.getGroup(),
                new Path("faulty", null, s.getPath().toUri().getPath()));
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        return faulty(local.getFileStatus(local(f)));
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        FileStatus[] all = local.listStatus(local(f));
        FileStatus[] out = new FileStatus[all.length];
        for (int i = 0; i < all.length; i++) {
            out[i] = faulty(all[i]);
        }
        return out;
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        TaskContext task = TaskContext.get();
        if (ARMED && task != null && task.attemptNumber() == 0 && task.partitionId() == 0) {
            INJECTED.incrementAndGet();
            throw new IOException("injected fault: first attempt of task " + task.taskAttemptId() + " reading " + f);
        }
        return local.open(local(f), bufferSize);
    }
}
