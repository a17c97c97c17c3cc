// demo_names.h: the tensor names and split dims of the official convert.py (architecture.md §2.2), which writes the
// demo's per-rank files model{rank}-mp{N}.safetensors from a Hugging Face checkpoint.
#ifndef DSV32_CHECKPOINT_DEMO_NAMES_H
#define DSV32_CHECKPOINT_DEMO_NAMES_H

#include <string>

namespace dsv32 {

struct DemoName {
    std::string name;    // convert.py's name: "layers.0.attn.wq_b.scale", "embed.weight", ...
    int split_dim = -1;  // the dim split across the ranks (0 or 1), -1: replicated (or a routed expert: whole)
    int expert = -1;     // a routed expert's global index (rank r keeps [r*E/mp, (r+1)*E/mp)), else -1
};

// convert.py's rule: drop a leading "model.", replace self_attn -> attn, mlp -> ffn, weight_scale_inv -> scale,
// e_score_correction_bias -> bias, then look up key = the second-to-last dotted component in its table and replace
// the key with the new name everywhere in the string (str.replace). A scale's key is its module's name, so it is
// split on its weight's dim. Throws std::runtime_error naming the tensor when the key is not in the table (convert.py
// asserts there).
DemoName demo_name(const std::string& hf_name);

// The file convert.py writes for rank r of mp: "model{r}-mp{mp}.safetensors".
std::string rank_file_name(int rank, int mp);

// Parses a rank file name: true and (rank, mp) for "model{r}-mp{N}.safetensors" with 0 <= r < N (decimal, no
// leading zeros), else false.
bool parse_rank_file_name(const std::string& file_name, int* rank, int* mp);

}  // namespace dsv32

#endif
