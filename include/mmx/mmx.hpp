/// \file
/// The umbrella header of multimax: `#include <mmx/mmx.hpp>` gives the public API, the
/// engine (mmx::Tensor, autograd, ops, normalizers) and the models and training (mmx::nn).
#pragma once

// Engine: tensors, the tape autograd, differentiable ops and MultiMax's normalizers.
#include "engine/autograd/no_grad.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/autograd_meta.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/measures.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"
#include "engine/random.hpp"
#include "engine/shape.hpp"
#include "engine/tensor.hpp"

// Engine I/O: safetensors files, crash-safe file replacement.
#include "engine/io/atomic_write.hpp"
#include "engine/io/safetensors.hpp"

// Layers and models.
#include "nn/attention.hpp"
#include "nn/attention_map.hpp"
#include "nn/attention_normalizer.hpp"
#include "nn/block.hpp"
#include "nn/config_reader.hpp"
#include "nn/dropout.hpp"
#include "nn/embedding.hpp"
#include "nn/gpt.hpp"
#include "nn/gpt_config.hpp"
#include "nn/init.hpp"
#include "nn/kv_cache.hpp"
#include "nn/layer_norm.hpp"
#include "nn/linear.hpp"
#include "nn/mlp.hpp"
#include "nn/model_setup.hpp"
#include "nn/module.hpp"
#include "nn/module_list.hpp"
#include "nn/multimax_parameters.hpp"
#include "nn/named_tensors.hpp"
#include "nn/sampler.hpp"
#include "nn/seq2seq.hpp"
#include "nn/seq2seq_attention.hpp"
#include "nn/seq2seq_config.hpp"
#include "nn/seq2seq_layers.hpp"
#include "nn/translation_vocab.hpp"
#include "nn/translator.hpp"
#include "nn/vit.hpp"
#include "nn/vit_config.hpp"

// Optimisation.
#include "nn/optim/adamw.hpp"
#include "nn/optim/grad_clip.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/optim/sgd.hpp"
#include "nn/optim_options.hpp"

// Data, metrics, checkpoints.
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/checkpoint.hpp"
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
#include "nn/lm_trainer.hpp"
#include "nn/mt_trainer.hpp"
#include "nn/trainer.hpp"
#include "nn/trainer_parts.hpp"
#include "nn/training_loop.hpp"
#include "nn/vit_trainer.hpp"
