# Built by scripts/build.mjs (node-gyp against the running Node's own
# headers). procwire_sanitize=1 is the AddressSanitizer + UBSan debug build
# that .ci/native-sanitizers.sh runs the tests against.
{
  'variables': {
    'procwire_sanitize%': 0,
  },
  'targets': [
    {
      'target_name': 'procwire_native',
      'conditions': [
        ['OS!="win"', {
          'sources': [
            'src/common/nodeArgs.cc',
            'src/posix/addon.cc',
            'src/posix/args.cc',
            'src/posix/constants.cc',
            'src/posix/errors.cc',
            'src/posix/fd.cc',
            'src/posix/filelock.cc',
            'src/posix/mqueue.cc',
            'src/posix/process.cc',
            'src/posix/shm.cc',
            'src/posix/socket.cc',
            'src/posix/teardown.cc',
            'src/posix/watcher.cc',
          ],
        }],
        ['OS=="win"', {
          # Built with MSVC by node-gyp on a Windows machine; CI cross-builds
          # the same files with mingw-w64 (scripts/cross-win.mjs).
          'sources': [
            'src/common/nodeArgs.cc',
            'src/win/addon.cc',
            'src/win/args.cc',
            'src/win/bellWatcher.cc',
            'src/win/constants.cc',
            'src/win/errors.cc',
            'src/win/host.cc',
            'src/win/mailslotReader.cc',
            'src/win/mailslotWriter.cc',
            'src/win/pipeListener.cc',
            'src/win/security.cc',
            'src/win/shmChannel.cc',
            'src/win/source.cc',
            'src/win/system.cc',
            'src/win/text.cc',
          ],
          # node-addon-api's C++ exceptions: Node's common.gypi turns them off on Windows.
          'defines': ['_HAS_EXCEPTIONS=1'],
          'msvs_settings': { 'VCCLCompilerTool': { 'ExceptionHandling': 1 } },
          'libraries': ['-ladvapi32'],
        }],
        ['OS=="linux"', {
          # mq_* live in librt before glibc 2.34.
          'libraries': ['-lrt'],
        }],
        ['OS=="mac"', {
          'xcode_settings': {
            'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
            'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
            'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
            'OTHER_CPLUSPLUSFLAGS': ['-Wall', '-Wextra'],
          },
        }],
        ['procwire_sanitize==1', {
          'cflags_cc': ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-O1', '-g', '-Werror'],
          'ldflags': ['-fsanitize=address,undefined'],
          # Catches a wrong As<T>() in the debug build at the cost of a check per cast.
          'defines': ['NODE_ADDON_API_ENABLE_TYPE_CHECK_ON_AS'],
        }],
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")", 'src/common'],
      # C++ exceptions: argument checks and errno errors are thrown from
      # helpers and node-addon-api turns them into JavaScript exceptions at the
      # boundary, so no call site can forget to check for a pending exception.
      # The cost is a landing pad off the hot path, nothing on success.
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'NAPI_CPP_EXCEPTIONS'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-fvisibility=hidden', '-Wall', '-Wextra'],
      'cflags': ['-fvisibility=hidden', '-Wall', '-Wextra'],
    },
  ],
}
