# Read training images through a memcached cache:
#
#   python ocr_ds/train.py CONFIG --mc-config configs/_base_/mc_config.py
#
# The dict below replaces `file_client_args` of the first pipeline step (the image loader) of
# every training dataset. The first epoch reads each image from disk and stores it in memcached;
# later epochs read it from memory. Start a server first, e.g. `memcached -m 4096 -p 11211`
# (4 GiB; `-I 2m` raises the item size limit, then set max_item_size to match).
mc_file_client_args = dict(
    backend='memcached',
    # 'host:port' of every server; several servers share the images between them
    servers=['127.0.0.1:11211'],
    # keys are this prefix + sha256 of the image's absolute path; change the prefix (or flush
    # the server) after rewriting images in place: the cache does not notice changed files
    key_prefix='ocr_ds:',
    # the servers' item size limit (memcached -I, 1 MiB by default); files larger than this
    # minus 512 bytes are always read from disk
    max_item_size=1024 * 1024,
    # seconds to wait for a connection / for a reply
    connect_timeout=1.0,
    timeout=2.0,
    # seconds an image stays cached; 0: until memcached evicts it (least recently used first)
    expire=0,
    # a failing server costs one warning, then images are read from disk and the cache is tried
    # again after this many seconds (None: not again in this run)
    retry_interval=60,
)
