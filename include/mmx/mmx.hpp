/// \file
/// The umbrella header of multimax: `#include <mmx/mmx.hpp>` gives the public API, the
/// engine (mmx::Tensor, autograd, ops, normalizers) and the models and training (mmx::nn).
#pragma once

// Engine: tensors, the tape autograd, differentiable ops and MultiMax's normalizers.
#include "engine/autograd/no_grad.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/autograd_meta.hpp"
#include "engine/decoding.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/measures.hpp"
#include "engine/multimax_params.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"
#include "engine/random.hpp"
#include "engine/shape.hpp"
#include "engine/tensor.hpp"

// Engine I/O: safetensors files, crash-safe file replacement.
#include "engine/io/atomic_write.hpp"
#include "engine/io/directory_lock.hpp"
#include "engine/io/json_input.hpp"
#include "engine/io/read_file.hpp"
#include "engine/io/safetensors.hpp"

// Layers and models.
#include "nn/layers/attention.hpp"
#include "nn/layers/attention_config.hpp"
#include "nn/layers/attention_map.hpp"
#include "nn/layers/block.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/embedding.hpp"
#include "nn/layers/init.hpp"
#include "nn/layers/layer_norm.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/mlp.hpp"
#include "nn/layers/multimax_parameters.hpp"
#include "nn/layers/normalizers.hpp"
#include "nn/models/config_reader.hpp"
#include "nn/models/gpt.hpp"
#include "nn/models/gpt_config.hpp"
#include "nn/models/gpt_decoder.hpp"
#include "nn/models/kv_cache.hpp"
#include "nn/models/model_setup.hpp"
#include "nn/models/sampler.hpp"
#include "nn/models/seq2seq.hpp"
#include "nn/models/seq2seq_config.hpp"
#include "nn/models/seq2seq_layers.hpp"
#include "nn/models/vit.hpp"
#include "nn/models/vit_config.hpp"
#include "nn/module.hpp"
#include "nn/module_list.hpp"
#include "nn/named_tensors.hpp"
#include "nn/tasks/mt/translation_vocab.hpp"
#include "nn/tasks/mt/translator.hpp"

// Optimisation.
#include "nn/optim/adamw.hpp"
#include "nn/optim/grad_clip.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/optim/sgd.hpp"

// Data, metrics, checkpoints.
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/data/data_fingerprint.hpp"
#include "nn/data/idx_reader.hpp"
#include "nn/data/image_dataset.hpp"
#include "nn/data/phrase_pairs.hpp"
#include "nn/data/text_corpus.hpp"
#include "nn/data/text_dataset.hpp"
#include "nn/data/utf8.hpp"
#include "nn/metrics/chrf.hpp"

// Data-parallel training: the communicator (MPI or a single process) and what runs on it.
#include "nn/distributed/communicator.hpp"
#include "nn/distributed/data_parallel.hpp"

// Trainers for the three tasks (lm, vit, mt) and the loop around them.
#include "nn/tasks/lm/lm_trainer.hpp"
#include "nn/tasks/mt/mt_trainer.hpp"
#include "nn/tasks/options_json.hpp"
#include "nn/tasks/running_sums.hpp"
#include "nn/tasks/task_table.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "nn/tasks/vit/vit_trainer.hpp"
